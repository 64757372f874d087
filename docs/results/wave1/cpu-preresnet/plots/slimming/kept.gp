set terminal pngcairo size 900,500 font 'Sans,10'
set output "kept.png"
set title "preresnet20-w0.5: kept channels per layer, slimming" enhanced
set xlabel "BN layer"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set xtics rotate by -45 ("block0.bn1" 0, "block0.bn2" 1, "block0.bn3" 2, "block1.bn1" 3, "block1.bn2" 4, "block1.bn3" 5, "block2.bn1" 6, "block2.bn2" 7, "block2.bn3" 8, "block3.bn1" 9, "block3.bn2" 10, "block3.bn3" 11, "block4.bn1" 12, "block4.bn2" 13, "block4.bn3" 14, "block5.bn1" 15, "block5.bn2" 16, "block5.bn3" 17, "bn" 18)
set xrange [-0.75:18.75]
$d0 << EOD
0 8
1 8
2 8
3 32
4 8
5 8
6 32
7 16
8 16
9 64
10 16
11 16
12 64
13 32
14 32
15 128
16 32
17 32
18 128
EOD
$d1 << EOD
0 8
1 8
2 8
3 21
4 7
5 8
6 24
7 16
8 16
9 52
10 16
11 16
12 59
13 32
14 32
15 99
16 32
17 32
18 101
EOD
plot $d0 using 1:2 with boxes lw 2 title "total", $d1 using 1:2 with boxes lw 2 title "kept"
