set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block1_bn3.png"
set title "preresnet20-w0.5: block1.bn3 (bandwidth 0.07897, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.5756425858, graph 0 to 0.5756425858, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.5756" at 0.5756425858, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.5756425858, graph 0 to 0.5756425858, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.576 (3)" at 0.5756425858, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.8206480145, graph 0 to 0.8206480145, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.821 (1)" at 0.8206480145, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.20641315, graph 0 to 1.20641315, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 1.379832387, graph 0 to 1.379832387, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01379832387 0
0.04139497161 0
0.06899161935 0
0.09658826709 0
0.1241849148 0
0.1517815626 0
0.1793782103 0
0.206974858 0
0.2345715058 0
0.2621681535 0
0.2897648013 0
0.317361449 0
0.3449580967 0
0.3725547445 0
0.4001513922 0
0.42774804 0
0.4553446877 0
0.4829413354 0
0.5105379832 0
0.5381346309 1
0.5657312787 1
0.5933279264 0
0.6209245741 1
0.6485212219 0
0.6761178696 0
0.7037145174 0
0.7313111651 0
0.7589078128 0
0.7865044606 0
0.8141011083 1
0.8416977561 0
0.8692944038 0
0.8968910515 0
0.9244876993 0
0.952084347 0
0.9796809947 0
1.007277642 0
1.03487429 0
1.062470938 0
1.090067586 1
1.117664233 0
1.145260881 0
1.172857529 1
1.200454177 0
1.228050824 0
1.255647472 1
1.28324412 0
1.310840768 0
1.338437415 0
1.366034063 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (8 channels)"
