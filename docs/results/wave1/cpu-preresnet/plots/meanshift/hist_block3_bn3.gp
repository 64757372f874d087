set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block3_bn3.png"
set title "preresnet20-w0.5: block3.bn3 (bandwidth 0.1091, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.8344338536, graph 0 to 0.8344338536, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.8344" at 0.8344338536, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.8344338536, graph 0 to 0.8344338536, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.834 (3)" at 0.8344338536, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 1.02385819, graph 0 to 1.02385819, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 1.02 (6)" at 1.02385819, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.408057928, graph 0 to 1.408057928, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 1.667651296, graph 0 to 1.667651296, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01741837025 0
0.05225511074 0
0.08709185123 0
0.1219285917 0
0.1567653322 0
0.1916020727 0
0.2264388132 0
0.2612755537 0
0.2961122942 0
0.3309490347 0
0.3657857752 0
0.4006225157 0
0.4354592562 0
0.4702959967 0
0.5051327372 0
0.5399694777 0
0.5748062181 0
0.6096429586 0
0.6444796991 0
0.6793164396 0
0.7141531801 0
0.7489899206 1
0.7838266611 1
0.8186634016 0
0.8535001421 1
0.8883368826 0
0.9231736231 0
0.9580103636 1
0.9928471041 0
1.027683845 4
1.062520585 0
1.097357326 1
1.132194066 0
1.167030807 0
1.201867547 0
1.236704288 0
1.271541028 0
1.306377769 1
1.341214509 1
1.37605125 0
1.41088799 0
1.44572473 2
1.480561471 1
1.515398211 0
1.550234952 0
1.585071692 1
1.619908433 0
1.654745173 0
1.689581914 0
1.724418654 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (16 channels)"
