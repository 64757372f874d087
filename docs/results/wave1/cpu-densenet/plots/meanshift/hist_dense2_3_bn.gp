set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_dense2_3_bn.png"
set title "densenet16-w0.5: dense2_3.bn (bandwidth 0.1632, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.1460316628, graph 0 to 0.1460316628, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.146" at 0.1460316628, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.1460316628, graph 0 to 0.1460316628, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.146 (23)" at 0.1460316628, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.4904733896, graph 0 to 0.4904733896, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.49 (48)" at 0.4904733896, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.045264482, graph 0 to 1.045264482, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01161006808 6
0.03483020425 1
0.05805034041 1
0.08127047658 1
0.1044906127 0
0.1277107489 1
0.1509308851 1
0.1741510212 0
0.1973711574 2
0.2205912936 3
0.2438114297 3
0.2670315659 3
0.2902517021 1
0.3134718382 1
0.3366919744 3
0.3599121106 3
0.3831322467 3
0.4063523829 0
0.4295725191 2
0.4527926552 4
0.4760127914 3
0.4992329276 3
0.5224530637 4
0.5456731999 4
0.5688933361 1
0.5921134722 2
0.6153336084 2
0.6385537446 3
0.6617738807 3
0.6849940169 2
0.7082141531 1
0.7314342892 0
0.7546544254 3
0.7778745615 1
0.8010946977 0
0.8243148339 1
0.84753497 1
0.8707551062 1
0.8939752424 0
0.9171953785 0
0.9404155147 0
0.9636356509 0
0.986855787 1
1.010075923 1
1.033296059 1
1.056516196 0
1.079736332 0
1.102956468 0
1.126176604 0
1.14939674 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (78 channels)"
