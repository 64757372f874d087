set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block0_bn1.png"
set title "preresnet20-w0.5: block0.bn1 (bandwidth 0.06057, 5 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.5941023231, graph 0 to 0.5941023231, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.5941" at 0.5941023231, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.5941023231, graph 0 to 0.5941023231, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.594 (3)" at 0.5941023231, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.7133677006, graph 0 to 0.7133677006, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.713 (2)" at 0.7133677006, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.854193747, graph 0 to 0.854193747, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.9694037437, graph 0 to 0.9694037437, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 1.134327412, graph 0 to 1.134327412, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01134327412 0
0.03402982235 0
0.05671637058 0
0.07940291882 0
0.102089467 0
0.1247760153 0
0.1474625635 0
0.1701491117 0
0.19283566 0
0.2155222082 0
0.2382087564 0
0.2608953047 0
0.2835818529 0
0.3062684011 0
0.3289549494 0
0.3516414976 0
0.3743280458 0
0.3970145941 0
0.4197011423 0
0.4423876905 0
0.4650742388 0
0.487760787 0
0.5104473352 0
0.5331338835 0
0.5558204317 1
0.5785069799 0
0.6011935282 1
0.6238800764 1
0.6465666246 0
0.6692531729 0
0.6919397211 0
0.7146262693 2
0.7373128176 0
0.7599993658 0
0.782685914 0
0.8053724623 0
0.8280590105 0
0.8507455587 1
0.873432107 0
0.8961186552 0
0.9188052034 0
0.9414917517 0
0.9641782999 1
0.9868648481 0
1.009551396 0
1.032237945 0
1.054924493 0
1.077611041 0
1.100297589 0
1.122984138 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (8 channels)"
