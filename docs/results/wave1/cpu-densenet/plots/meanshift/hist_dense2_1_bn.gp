set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_dense2_1_bn.png"
set title "densenet16-w0.5: dense2_1.bn (bandwidth 0.147, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.0196443256, graph 0 to 0.0196443256, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.01964" at 0.0196443256, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.0196443256, graph 0 to 0.0196443256, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.0196 (8)" at 0.0196443256, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.4367530048, graph 0 to 0.4367530048, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.437 (31)" at 0.4367530048, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.7261300087, graph 0 to 0.7261300087, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 1.007506847, graph 0 to 1.007506847, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01063651681 5
0.03190955043 1
0.05318258405 0
0.07445561767 0
0.09572865129 1
0.1170016849 0
0.1382747185 0
0.1595477521 0
0.1808207858 0
0.2020938194 1
0.223366853 0
0.2446398866 3
0.2659129202 0
0.2871859539 0
0.3084589875 2
0.3297320211 3
0.3510050547 3
0.3722780883 1
0.393551122 1
0.4148241556 3
0.4360971892 2
0.4573702228 1
0.4786432564 3
0.49991629 3
0.5211893237 2
0.5424623573 1
0.5637353909 2
0.5850084245 2
0.6062814581 2
0.6275544918 3
0.6488275254 1
0.670100559 1
0.6913735926 1
0.7126466262 2
0.7339196599 4
0.7551926935 0
0.7764657271 2
0.7977387607 3
0.8190117943 4
0.8402848279 0
0.8615578616 1
0.8828308952 0
0.9041039288 0
0.9253769624 0
0.946649996 1
0.9679230297 0
0.9891960633 0
1.010469097 0
1.031742131 0
1.053015164 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (66 channels)"
