set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_dense0_3_bn.png"
set title "densenet16-w0.5: dense0_3.bn (bandwidth 0.2303, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.1326684356, graph 0 to 0.1326684356, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.1327" at 0.1326684356, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.1326684356, graph 0 to 0.1326684356, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.133 (8)" at 0.1326684356, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.6462265253, graph 0 to 0.6462265253, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.646 (13)" at 0.6462265253, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.9777106047, graph 0 to 0.9777106047, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01296879768 3
0.03890639305 0
0.06484398842 1
0.09078158379 0
0.1167191792 0
0.1426567745 1
0.1685943699 0
0.1945319653 0
0.2204695606 0
0.246407156 1
0.2723447514 1
0.2982823467 0
0.3242199421 1
0.3501575375 0
0.3760951328 0
0.4020327282 0
0.4279703236 1
0.4539079189 1
0.4798455143 2
0.5057831097 1
0.531720705 0
0.5576583004 0
0.5835958958 0
0.6095334911 0
0.6354710865 1
0.6614086819 2
0.6873462772 2
0.7132838726 1
0.739221468 1
0.7651590633 0
0.7910966587 1
0.8170342541 0
0.8429718494 0
0.8689094448 2
0.8948470402 0
0.9207846355 1
0.9467222309 0
0.9726598263 0
0.9985974216 0
1.024535017 2
1.050472612 0
1.076410208 1
1.102347803 2
1.128285398 0
1.154222994 0
1.180160589 0
1.206098185 0
1.23203578 0
1.257973375 0
1.283910971 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (30 channels)"
