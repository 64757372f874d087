set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_dense0_1_bn.png"
set title "densenet16-w0.5: dense0_1.bn (bandwidth 0.1759, 5 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.005809909198, graph 0 to 0.005809909198, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.00581" at 0.005809909198, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.005809909198, graph 0 to 0.005809909198, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.00581 (5)" at 0.005809909198, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.3025711179, graph 0 to 0.3025711179, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.303 (2)" at 0.3025711179, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.6762786508, graph 0 to 0.6762786508, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.9593493342, graph 0 to 0.9593493342, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 1.565097332, graph 0 to 1.565097332, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01641211033 5
0.04923633099 0
0.08206055164 0
0.1148847723 0
0.147708993 0
0.1805332136 0
0.2133574343 0
0.2461816549 1
0.2790058756 0
0.3118300962 0
0.3446543169 1
0.3774785376 0
0.4103027582 0
0.4431269789 0
0.4759511995 0
0.5087754202 0
0.5415996408 0
0.5744238615 1
0.6072480822 0
0.6400723028 1
0.6728965235 1
0.7057207441 1
0.7385449648 2
0.7713691854 0
0.8041934061 0
0.8370176268 0
0.8698418474 0
0.9026660681 1
0.9354902887 1
0.9683145094 0
1.00113873 0
1.033962951 1
1.066787171 0
1.099611392 0
1.132435613 0
1.165259833 0
1.198084054 0
1.230908275 0
1.263732495 0
1.296556716 0
1.329380937 0
1.362205157 0
1.395029378 0
1.427853599 0
1.460677819 0
1.49350204 1
1.526326261 0
1.559150481 0
1.591974702 0
1.624798923 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (18 channels)"
