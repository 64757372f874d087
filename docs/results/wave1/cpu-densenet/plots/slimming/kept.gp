set terminal pngcairo size 900,500 font 'Sans,10'
set output "kept.png"
set title "densenet16-w0.5: kept channels per layer, slimming" enhanced
set xlabel "BN layer"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set xtics rotate by -45 ("dense0_0.bn" 0, "dense0_1.bn" 1, "dense0_2.bn" 2, "dense0_3.bn" 3, "trans0.bn" 4, "dense1_0.bn" 5, "dense1_1.bn" 6, "dense1_2.bn" 7, "dense1_3.bn" 8, "trans1.bn" 9, "dense2_0.bn" 10, "dense2_1.bn" 11, "dense2_2.bn" 12, "dense2_3.bn" 13, "bn" 14)
set xrange [-0.75:14.75]
$d0 << EOD
0 12
1 18
2 24
3 30
4 36
5 36
6 42
7 48
8 54
9 60
10 60
11 66
12 72
13 78
14 84
EOD
$d1 << EOD
0 12
1 13
2 17
3 25
4 36
5 33
6 38
7 39
8 41
9 57
10 51
11 58
12 63
13 62
14 76
EOD
plot $d0 using 1:2 with boxes lw 2 title "total", $d1 using 1:2 with boxes lw 2 title "kept"
