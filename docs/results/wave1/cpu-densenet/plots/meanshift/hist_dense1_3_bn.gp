set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_dense1_3_bn.png"
set title "densenet16-w0.5: dense1_3.bn (bandwidth 0.1606, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.3257611692, graph 0 to 0.3257611692, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.3258" at 0.3257611692, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.3257611692, graph 0 to 0.3257611692, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.326 (38)" at 0.3257611692, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.8002560735, graph 0 to 0.8002560735, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.8 (10)" at 0.8002560735, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.9679446816, graph 0 to 0.9679446816, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.0109845221 1
0.03295356631 1
0.05492261052 1
0.07689165473 0
0.09886069894 0
0.1208297431 1
0.1427987874 0
0.1647678316 0
0.1867368758 0
0.20870592 4
0.2306749642 6
0.2526440084 1
0.2746130526 1
0.2965820968 1
0.318551141 1
0.3405201852 1
0.3624892294 2
0.3844582736 2
0.4064273179 4
0.4283963621 1
0.4503654063 2
0.4723344505 2
0.4943034947 2
0.5162725389 2
0.5382415831 0
0.5602106273 2
0.5821796715 0
0.6041487157 2
0.6261177599 0
0.6480868042 1
0.6700558484 2
0.6920248926 0
0.7139939368 1
0.735962981 0
0.7579320252 0
0.7799010694 1
0.8018701136 3
0.8238391578 0
0.845808202 0
0.8677772462 0
0.8897462904 0
0.9117153347 1
0.9336843789 2
0.9556534231 1
0.9776224673 1
0.9995915115 0
1.021560556 0
1.0435296 0
1.065498644 0
1.087467688 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (54 channels)"
