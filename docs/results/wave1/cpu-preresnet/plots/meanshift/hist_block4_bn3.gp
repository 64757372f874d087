set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block4_bn3.png"
set title "preresnet20-w0.5: block4.bn3 (bandwidth 0.1028, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.8543146849, graph 0 to 0.8543146849, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.8543" at 0.8543146849, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.8543146849, graph 0 to 0.8543146849, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.854 (1)" at 0.8543146849, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 1.433672428, graph 0 to 1.433672428, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 1.43 (21)" at 1.433672428, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.625735402, graph 0 to 1.625735402, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 1.90126729, graph 0 to 1.90126729, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.0190126729 0
0.0570380187 0
0.09506336451 0
0.1330887103 0
0.1711140561 0
0.2091394019 0
0.2471647477 0
0.2851900935 0
0.3232154393 0
0.3612407851 0
0.3992661309 0
0.4372914767 0
0.4753168225 0
0.5133421683 0
0.5513675141 0
0.5893928599 0
0.6274182057 0
0.6654435515 0
0.7034688973 0
0.7414942431 0
0.7795195889 0
0.8175449347 0
0.8555702806 1
0.8935956264 0
0.9316209722 0
0.969646318 0
1.007671664 0
1.04569701 0
1.083722355 0
1.121747701 0
1.159773047 0
1.197798393 1
1.235823739 0
1.273849084 1
1.31187443 2
1.349899776 2
1.387925122 4
1.425950468 3
1.463975813 5
1.502001159 3
1.540026505 1
1.578051851 2
1.616077197 2
1.654102542 1
1.692127888 0
1.730153234 2
1.76817858 1
1.806203926 0
1.844229271 0
1.882254617 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (32 channels)"
