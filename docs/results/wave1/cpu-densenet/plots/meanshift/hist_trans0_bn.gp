set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_trans0_bn.png"
set title "densenet16-w0.5: trans0.bn (bandwidth 0.1948, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.7976455688, graph 0 to 0.7976455688, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.7976" at 0.7976455688, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.7976455688, graph 0 to 0.7976455688, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.798 (15)" at 0.7976455688, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 1.027180552, graph 0 to 1.027180552, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 1.03 (12)" at 1.027180552, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.332537651, graph 0 to 1.332537651, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 1.648629189, graph 0 to 1.648629189, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01744433284 0
0.05233299851 0
0.08722166419 0
0.1221103299 0
0.1569989955 0
0.1918876612 0
0.2267763269 0
0.2616649926 0
0.2965536582 0
0.3314423239 0
0.3663309896 0
0.4012196553 0
0.436108321 0
0.4709969866 0
0.5058856523 0
0.540774318 2
0.5756629837 2
0.6105516493 0
0.645440315 2
0.6803289807 1
0.7152176464 1
0.750106312 1
0.7849949777 3
0.8198836434 0
0.8547723091 0
0.8896609747 2
0.9245496404 2
0.9594383061 1
0.9943269718 1
1.029215637 0
1.064104303 2
1.098992969 7
1.133881634 0
1.1687703 0
1.203658966 0
1.238547632 1
1.273436297 2
1.308324963 0
1.343213629 1
1.378102294 0
1.41299096 0
1.447879626 0
1.482768291 0
1.517656957 1
1.552545623 0
1.587434288 0
1.622322954 1
1.65721162 1
1.692100285 1
1.726988951 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (36 channels)"
