set terminal pngcairo size 900,500 font 'Sans,10'
set output "kept.png"
set title "vgg16-w0.25: kept channels per layer, meanshift" enhanced
set xlabel "BN layer"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set xtics rotate by -45 ("bn0" 0, "bn1" 1, "bn2" 2, "bn3" 3, "bn4" 4, "bn5" 5, "bn6" 6, "bn7" 7, "bn8" 8, "bn9" 9, "bn10" 10, "bn11" 11, "bn12" 12)
set xrange [-0.75:12.75]
$d0 << EOD
0 16
1 16
2 32
3 32
4 64
5 64
6 64
7 128
8 128
9 128
10 128
11 128
12 128
EOD
$d1 << EOD
0 15
1 16
2 31
3 32
4 64
5 64
6 62
7 128
8 128
9 123
10 73
11 78
12 125
EOD
plot $d0 using 1:2 with boxes lw 2 title "total", $d1 using 1:2 with boxes lw 2 title "kept"
