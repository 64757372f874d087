set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block2_bn1.png"
set title "preresnet20-w0.5: block2.bn1 (bandwidth 0.1676, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.06378145516, graph 0 to 0.06378145516, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.06378" at 0.06378145516, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.06378145516, graph 0 to 0.06378145516, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.0638 (8)" at 0.06378145516, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.5054505467, graph 0 to 0.5054505467, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.505 (16)" at 0.5054505467, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.7590687275, graph 0 to 0.7590687275, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01038357615 5
0.03115072846 0
0.05191788077 0
0.07268503308 0
0.09345218539 0
0.1142193377 1
0.13498649 0
0.1557536423 0
0.1765207946 0
0.1972879469 1
0.2180550992 1
0.2388222516 0
0.2595894039 0
0.2803565562 0
0.3011237085 0
0.3218908608 0
0.3426580131 2
0.3634251654 0
0.3841923177 0
0.40495947 0
0.4257266223 2
0.4464937747 0
0.467260927 1
0.4880280793 0
0.5087952316 6
0.5295623839 1
0.5503295362 0
0.5710966885 3
0.5918638408 0
0.6126309931 1
0.6333981454 0
0.6541652977 1
0.6749324501 0
0.6956996024 0
0.7164667547 1
0.737233907 1
0.7580010593 0
0.7787682116 1
0.7995353639 1
0.8203025162 0
0.8410696685 0
0.8618368208 1
0.8826039732 0
0.9033711255 1
0.9241382778 0
0.9449054301 0
0.9656725824 0
0.9864397347 0
1.007206887 0
1.027974039 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (32 channels)"
