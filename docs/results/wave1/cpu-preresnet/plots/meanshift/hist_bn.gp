set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_bn.png"
set title "preresnet20-w0.5: bn (bandwidth 0.4248, 2 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.3158058226, graph 0 to 0.3158058226, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.3158" at 0.3158058226, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.3158058226, graph 0 to 0.3158058226, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.316 (62)" at 0.3158058226, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 1.745951653, graph 0 to 1.745951653, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 1.75 (66)" at 1.745951653, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
$d0 << EOD
0.02939372778 7
0.08818118334 5
0.1469686389 4
0.2057560945 6
0.26454355 3
0.3233310056 7
0.3821184611 2
0.4409059167 4
0.4996933722 0
0.5584808278 2
0.6172682834 4
0.6760557389 5
0.7348431945 2
0.79363065 3
0.8524181056 4
0.9112055612 0
0.9699930167 3
1.028780472 3
1.087567928 2
1.146355383 1
1.205142839 2
1.263930295 3
1.32271775 3
1.381505206 3
1.440292661 4
1.499080117 3
1.557867572 2
1.616655028 2
1.675442483 5
1.734229939 1
1.793017395 5
1.85180485 2
1.910592306 2
1.969379761 1
2.028167217 5
2.086954672 6
2.145742128 0
2.204529583 1
2.263317039 4
2.322104495 1
2.38089195 0
2.439679406 2
2.498466861 0
2.557254317 0
2.616041772 0
2.674829228 1
2.733616683 1
2.792404139 1
2.851191595 0
2.90997905 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (128 channels)"
