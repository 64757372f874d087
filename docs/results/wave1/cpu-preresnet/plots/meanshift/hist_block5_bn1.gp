set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block5_bn1.png"
set title "preresnet20-w0.5: block5.bn1 (bandwidth 0.113, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.1092732102, graph 0 to 0.1092732102, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.1093" at 0.1092732102, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.1092732102, graph 0 to 0.1092732102, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.109 (26)" at 0.1092732102, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.4280990958, graph 0 to 0.4280990958, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.428 (99)" at 0.4280990958, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.07945931, graph 0 to 1.07945931, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.0107945931 6
0.03238377929 0
0.05397296548 0
0.07556215167 0
0.09715133786 0
0.1187405241 0
0.1403297102 4
0.1619188964 0
0.1835080826 2
0.2050972688 4
0.226686455 1
0.2482756412 5
0.2698648274 5
0.2914540136 3
0.3130431998 1
0.334632386 7
0.3562215722 5
0.3778107584 6
0.3993999445 7
0.4209891307 8
0.4425783169 7
0.4641675031 5
0.4857566893 6
0.5073458755 4
0.5289350617 4
0.5505242479 4
0.5721134341 8
0.5937026203 6
0.6152918065 5
0.6368809927 5
0.6584701788 2
0.680059365 1
0.7016485512 1
0.7232377374 3
0.7448269236 0
0.7664161098 1
0.788005296 0
0.8095944822 0
0.8311836684 1
0.8527728546 0
0.8743620408 0
0.8959512269 0
0.9175404131 0
0.9391295993 0
0.9607187855 0
0.9823079717 0
1.003897158 0
1.025486344 0
1.04707553 0
1.068664716 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (128 channels)"
