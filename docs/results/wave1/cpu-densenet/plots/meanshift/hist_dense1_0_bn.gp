set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_dense1_0_bn.png"
set title "densenet16-w0.5: dense1_0.bn (bandwidth 0.1063, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.04141823202, graph 0 to 0.04141823202, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.04142" at 0.04141823202, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.04141823202, graph 0 to 0.04141823202, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.0414 (3)" at 0.04141823202, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.4282761514, graph 0 to 0.4282761514, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.428 (13)" at 0.4282761514, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.6411671042, graph 0 to 0.6411671042, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.8318414688, graph 0 to 0.8318414688, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.008803092241 1
0.02640927672 0
0.04401546121 0
0.06162164569 1
0.07922783017 0
0.09683401465 0
0.1144401991 0
0.1320463836 0
0.1496525681 0
0.1672587526 0
0.1848649371 0
0.2024711215 0
0.220077306 1
0.2376834905 0
0.255289675 0
0.2728958595 0
0.290502044 2
0.3081082284 1
0.3257144129 0
0.3433205974 1
0.3609267819 0
0.3785329664 4
0.3961391509 0
0.4137453353 0
0.4313515198 1
0.4489577043 1
0.4665638888 0
0.4841700733 0
0.5017762578 1
0.5193824422 2
0.5369886267 1
0.5545948112 0
0.5722009957 0
0.5898071802 1
0.6074133646 2
0.6250195491 1
0.6426257336 4
0.6602319181 2
0.6778381026 2
0.6954442871 2
0.7130504715 0
0.730656656 0
0.7482628405 0
0.765869025 0
0.7834752095 2
0.801081394 0
0.8186875784 0
0.8362937629 1
0.8538999474 0
0.8715061319 2
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (36 channels)"
