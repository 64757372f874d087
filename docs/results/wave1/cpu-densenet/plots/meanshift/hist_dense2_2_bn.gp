set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_dense2_2_bn.png"
set title "densenet16-w0.5: dense2_2.bn (bandwidth 0.1297, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.1239361614, graph 0 to 0.1239361614, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.1239" at 0.1239361614, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.1239361614, graph 0 to 0.1239361614, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.124 (15)" at 0.1239361614, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.4802688062, graph 0 to 0.4802688062, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.48 (48)" at 0.4802688062, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.9096736908, graph 0 to 0.9096736908, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01020315051 3
0.03060945153 0
0.05101575255 0
0.07142205358 0
0.0918283546 0
0.1122346556 0
0.1326409566 0
0.1530472577 1
0.1734535587 3
0.1938598597 1
0.2142661607 1
0.2346724617 0
0.2550787628 0
0.2754850638 5
0.2958913648 2
0.3162976658 1
0.3367039669 2
0.3571102679 1
0.3775165689 1
0.3979228699 4
0.4183291709 3
0.438735472 4
0.459141773 3
0.479548074 3
0.499954375 3
0.5203606761 2
0.5407669771 2
0.5611732781 4
0.5815795791 4
0.6019858801 0
0.6223921812 3
0.6427984822 3
0.6632047832 1
0.6836110842 3
0.7040173852 1
0.7244236863 2
0.7448299873 1
0.7652362883 0
0.7856425893 0
0.8060488904 1
0.8264551914 1
0.8468614924 0
0.8672677934 0
0.8876740944 1
0.9080803955 0
0.9284866965 0
0.9488929975 0
0.9692992985 0
0.9897055995 0
1.010111901 2
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (72 channels)"
