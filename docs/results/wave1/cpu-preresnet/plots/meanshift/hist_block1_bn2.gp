set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block1_bn2.png"
set title "preresnet20-w0.5: block1.bn2 (bandwidth 0.1312, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 6.507014927e-09, graph 0 to 6.507014927e-09, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 6.507e-09" at 6.507014927e-09, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 6.507014927e-09, graph 0 to 6.507014927e-09, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 6.51e-09 (1)" at 6.507014927e-09, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.7196202278, graph 0 to 0.7196202278, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.72 (4)" at 0.7196202278, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.211270928, graph 0 to 1.211270928, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01271077871 1
0.03813233614 0
0.06355389357 0
0.08897545099 0
0.1143970084 0
0.1398185658 0
0.1652401233 0
0.1906616807 0
0.2160832381 0
0.2415047956 0
0.266926353 0
0.2923479104 0
0.3177694678 0
0.3431910253 0
0.3686125827 0
0.3940341401 0
0.4194556975 0
0.444877255 0
0.4702988124 0
0.4957203698 1
0.5211419272 0
0.5465634847 0
0.5719850421 0
0.5974065995 0
0.6228281569 0
0.6482497144 1
0.6736712718 1
0.6990928292 0
0.7245143867 0
0.7499359441 0
0.7753575015 0
0.8007790589 0
0.8262006164 0
0.8516221738 1
0.8770437312 0
0.9024652886 0
0.9278868461 0
0.9533084035 0
0.9787299609 0
1.004151518 0
1.029573076 0
1.054994633 0
1.080416191 0
1.105837748 0
1.131259305 1
1.156680863 0
1.18210242 0
1.207523978 0
1.232945535 1
1.258367093 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (8 channels)"
