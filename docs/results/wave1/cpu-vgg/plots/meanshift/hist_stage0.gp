set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_stage0.png"
set title "vgg16-w0.25: stage0 (bandwidth 0.04843, 11 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 1.625938495e-08, graph 0 to 1.625938495e-08, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 1.626e-08" at 1.625938495e-08, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 1.625938495e-08, graph 0 to 1.625938495e-08, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 1.63e-08 (1)" at 1.625938495e-08, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.3364437222, graph 0 to 0.3364437222, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.336 (1)" at 0.3364437222, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.4093234241, graph 0 to 0.4093234241, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.5105657578, graph 0 to 0.5105657578, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 0.6169528365, graph 0 to 0.6169528365, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 7 from 0.7643709183, graph 0 to 0.7643709183, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 8 from 0.8886649609, graph 0 to 0.8886649609, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 9 from 0.9888743162, graph 0 to 0.9888743162, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 10 from 1.072751641, graph 0 to 1.072751641, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 11 from 1.244863153, graph 0 to 1.244863153, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 12 from 1.402155995, graph 0 to 1.402155995, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01411297321 1
0.04233891964 0
0.07056486607 0
0.09879081249 0
0.1270167589 0
0.1552427053 0
0.1834686518 0
0.2116945982 0
0.2399205446 0
0.2681464911 0
0.2963724375 0
0.3245983839 1
0.3528243303 0
0.3810502768 0
0.4092762232 1
0.4375021696 0
0.465728116 0
0.4939540625 2
0.5221800089 1
0.5504059553 0
0.5786319017 0
0.6068578482 2
0.6350837946 1
0.663309741 0
0.6915356874 0
0.7197616339 0
0.7479875803 2
0.7762135267 1
0.8044394732 0
0.8326654196 0
0.860891366 0
0.8891173124 1
0.9173432589 0
0.9455692053 1
0.9737951517 1
1.002021098 2
1.030247045 1
1.058472991 3
1.086698937 1
1.114924884 1
1.14315083 1
1.171376777 0
1.199602723 0
1.22782867 3
1.256054616 3
1.284280562 0
1.312506509 0
1.340732455 0
1.368958402 0
1.397184348 2
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (32 channels)"
