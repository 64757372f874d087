set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block5_bn3.png"
set title "preresnet20-w0.5: block5.bn3 (bandwidth 0.1051, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 1.478678823, graph 0 to 1.478678823, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 1.479" at 1.478678823, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 1.478678823, graph 0 to 1.478678823, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 1.48 (1)" at 1.478678823, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 1.822128415, graph 0 to 1.822128415, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 1.82 (13)" at 1.822128415, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 2.082231283, graph 0 to 2.082231283, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 2.190744638, graph 0 to 2.190744638, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.02367351532 0
0.07102054596 0
0.1183675766 0
0.1657146072 0
0.2130616379 0
0.2604086685 0
0.3077556992 0
0.3551027298 0
0.4024497604 0
0.4497967911 0
0.4971438217 0
0.5444908524 0
0.591837883 0
0.6391849136 0
0.6865319443 0
0.7338789749 0
0.7812260056 0
0.8285730362 0
0.8759200668 0
0.9232670975 0
0.9706141281 0
1.017961159 0
1.065308189 0
1.11265522 0
1.160002251 0
1.207349281 0
1.254696312 0
1.302043343 0
1.349390373 0
1.396737404 0
1.444084435 0
1.491431465 1
1.538778496 0
1.586125526 0
1.633472557 0
1.680819588 0
1.728166618 2
1.775513649 2
1.82286068 4
1.87020771 3
1.917554741 2
1.964901772 0
2.012248802 4
2.059595833 3
2.106942863 1
2.154289894 4
2.201636925 1
2.248983955 2
2.296330986 1
2.343678017 2
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (32 channels)"
