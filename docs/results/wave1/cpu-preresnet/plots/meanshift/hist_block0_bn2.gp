set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block0_bn2.png"
set title "preresnet20-w0.5: block0.bn2 (bandwidth 0.05204, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.5824331641, graph 0 to 0.5824331641, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.5824" at 0.5824331641, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.5824331641, graph 0 to 0.5824331641, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.582 (3)" at 0.5824331641, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.8614222407, graph 0 to 0.8614222407, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.861 (1)" at 0.8614222407, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.9682458043, graph 0 to 0.9682458043, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 1.212929606, graph 0 to 1.212929606, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01212929606 0
0.03638788819 0
0.06064648032 0
0.08490507245 0
0.1091636646 0
0.1334222567 0
0.1576808488 0
0.181939441 0
0.2061980331 0
0.2304566252 0
0.2547152174 0
0.2789738095 0
0.3032324016 0
0.3274909937 0
0.3517495859 0
0.376008178 0
0.4002667701 0
0.4245253623 0
0.4487839544 0
0.4730425465 0
0.4973011386 0
0.5215597308 0
0.5458183229 0
0.570076915 1
0.5943355072 2
0.6185940993 0
0.6428526914 0
0.6671112835 0
0.6913698757 0
0.7156284678 0
0.7398870599 0
0.7641456521 0
0.7884042442 0
0.8126628363 0
0.8369214284 0
0.8611800206 1
0.8854386127 0
0.9096972048 0
0.933955797 1
0.9582143891 0
0.9824729812 2
1.006731573 0
1.030990165 0
1.055248758 0
1.07950735 0
1.103765942 0
1.128024534 0
1.152283126 0
1.176541718 0
1.20080031 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (8 channels)"
