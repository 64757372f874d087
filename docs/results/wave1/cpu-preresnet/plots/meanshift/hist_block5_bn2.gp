set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block5_bn2.png"
set title "preresnet20-w0.5: block5.bn2 (bandwidth 0.06685, 5 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.5850709677, graph 0 to 0.5850709677, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.5851" at 0.5850709677, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.5850709677, graph 0 to 0.5850709677, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.585 (1)" at 0.5850709677, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.7473281026, graph 0 to 0.7473281026, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.747 (8)" at 0.7473281026, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.8313657045, graph 0 to 0.8313657045, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.9240173101, graph 0 to 0.9240173101, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 1.283432603, graph 0 to 1.283432603, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01283432603 0
0.03850297809 0
0.06417163014 0
0.0898402822 0
0.1155089343 0
0.1411775863 0
0.1668462384 0
0.1925148904 0
0.2181835425 0
0.2438521945 0
0.2695208466 0
0.2951894987 0
0.3208581507 0
0.3465268028 0
0.3721954548 0
0.3978641069 0
0.423532759 0
0.449201411 0
0.4748700631 0
0.5005387151 0
0.5262073672 0
0.5518760192 0
0.5775446713 1
0.6032133234 0
0.6288819754 0
0.6545506275 0
0.6802192795 1
0.7058879316 1
0.7315565836 3
0.7572252357 1
0.7828938878 3
0.8085625398 2
0.8342311919 3
0.8598998439 6
0.885568496 1
0.911237148 1
0.9369058001 4
0.9625744522 2
0.9882431042 0
1.013911756 1
1.039580408 1
1.06524906 0
1.090917712 0
1.116586365 0
1.142255017 0
1.167923669 0
1.193592321 0
1.219260973 0
1.244929625 0
1.270598277 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (32 channels)"
