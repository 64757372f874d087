set terminal pngcairo size 900,500 font 'Sans,10'
set output "gamma-vgg16-w025-base.png"
set title "|gamma| of all BatchNorm channels: vgg16-w0.25" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.3911558419, graph 0 to 0.3911558419, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 1 "mean 0.391" at 0.3911558419, graph 0.97 left offset 0.5,0 textcolor rgb "blue" font ',9'
$d0 << EOD
0.04919326603 136
0.1475797981 231
0.2459663302 169
0.3443528622 112
0.4427393943 63
0.5411259264 79
0.6395124584 81
0.7378989905 61
0.8362855226 44
0.9346720546 36
1.033058587 18
1.131445119 10
1.229831651 3
1.328218183 2
1.426604715 5
1.524991247 2
1.623377779 2
1.721764311 1
1.820150843 0
1.918537375 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "channels"
