set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_dense0_2_bn.png"
set title "densenet16-w0.5: dense0_2.bn (bandwidth 0.2196, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.05023544654, graph 0 to 0.05023544654, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.05024" at 0.05023544654, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.05023544654, graph 0 to 0.05023544654, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.0502 (8)" at 0.05023544654, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.6077830195, graph 0 to 0.6077830195, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.608 (7)" at 0.6077830195, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.139256001, graph 0 to 1.139256001, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01426813126 3
0.04280439377 2
0.07134065628 1
0.09987691879 0
0.1284131813 0
0.1569494438 0
0.1854857063 1
0.2140219688 0
0.2425582314 0
0.2710944939 0
0.2996307564 0
0.3281670189 1
0.3567032814 0
0.3852395439 0
0.4137758064 1
0.4423120689 0
0.4708483315 1
0.499384594 0
0.5279208565 1
0.556457119 0
0.5849933815 0
0.613529644 0
0.6420659065 0
0.670602169 1
0.6991384315 2
0.7276746941 0
0.7562109566 1
0.7847472191 0
0.8132834816 0
0.8418197441 0
0.8703560066 0
0.8988922691 0
0.9274285316 0
0.9559647942 1
0.9845010567 1
1.013037319 0
1.041573582 0
1.070109844 0
1.098646107 2
1.127182369 0
1.155718632 0
1.184254894 2
1.212791157 0
1.241327419 0
1.269863682 0
1.298399944 0
1.326936207 2
1.355472469 0
1.384008732 0
1.412544994 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (24 channels)"
