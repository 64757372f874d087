set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block4_bn1.png"
set title "preresnet20-w0.5: block4.bn1 (bandwidth 0.1202, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.005379231181, graph 0 to 0.005379231181, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.005379" at 0.005379231181, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.005379231181, graph 0 to 0.005379231181, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.00538 (5)" at 0.005379231181, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.5462342501, graph 0 to 0.5462342501, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.546 (53)" at 0.5462342501, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.9685346484, graph 0 to 0.9685346484, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.009685346484 4
0.02905603945 1
0.04842673242 0
0.06779742539 0
0.08716811836 0
0.1065388113 0
0.1259095043 0
0.1452801973 0
0.1646508902 0
0.1840215832 0
0.2033922762 0
0.2227629691 0
0.2421336621 0
0.2615043551 0
0.280875048 0
0.300245741 1
0.319616434 0
0.3389871269 0
0.3583578199 2
0.3777285129 2
0.3970992059 0
0.4164698988 2
0.4358405918 2
0.4552112848 3
0.4745819777 3
0.4939526707 3
0.5133233637 3
0.5326940566 1
0.5520647496 5
0.5714354426 3
0.5908061355 5
0.6101768285 5
0.6295475215 1
0.6489182144 2
0.6682889074 2
0.6876596004 2
0.7070302933 3
0.7264009863 1
0.7457716793 2
0.7651423723 2
0.7845130652 1
0.8038837582 1
0.8232544512 0
0.8426251441 1
0.8619958371 0
0.8813665301 0
0.900737223 0
0.920107916 0
0.939478609 0
0.9588493019 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (64 channels)"
