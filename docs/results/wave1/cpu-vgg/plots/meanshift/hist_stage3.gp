set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_stage3.png"
set title "vgg16-w0.25: stage3 (bandwidth 0.02409, 9 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.0195797421, graph 0 to 0.0195797421, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.01958" at 0.0195797421, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.0195797421, graph 0 to 0.0195797421, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.0196 (14)" at 0.0195797421, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.104049705, graph 0 to 0.104049705, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.104 (56)" at 0.104049705, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.1532534063, graph 0 to 0.1532534063, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.2159829736, graph 0 to 0.2159829736, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 0.2646498382, graph 0 to 0.2646498382, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 7 from 0.3249838352, graph 0 to 0.3249838352, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 8 from 0.3793440759, graph 0 to 0.3793440759, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 9 from 0.4528639019, graph 0 to 0.4528639019, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 10 from 0.5500329137, graph 0 to 0.5500329137, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.005567346811 4
0.01670204043 1
0.02783673406 2
0.03897142768 3
0.0501061213 1
0.06124081492 4
0.07237550855 4
0.08351020217 8
0.09464489579 14
0.1057795894 10
0.116914283 15
0.1280489767 10
0.1391836703 21
0.1503183639 13
0.1614530575 15
0.1725877512 18
0.1837224448 10
0.1948571384 10
0.205991832 19
0.2171265256 16
0.2282612193 12
0.2393959129 16
0.2505306065 14
0.2616653001 8
0.2727999938 16
0.2839346874 13
0.295069381 13
0.3062040746 5
0.3173387682 13
0.3284734619 9
0.3396081555 5
0.3507428491 6
0.3618775427 6
0.3730122364 10
0.38414693 5
0.3952816236 9
0.4064163172 4
0.4175510108 5
0.4286857045 1
0.4398203981 3
0.4509550917 3
0.4620897853 3
0.473224479 3
0.4843591726 0
0.4954938662 1
0.5066285598 0
0.5177632535 0
0.5288979471 0
0.5400326407 0
0.5511673343 3
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (384 channels)"
