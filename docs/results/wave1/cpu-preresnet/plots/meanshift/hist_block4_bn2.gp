set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block4_bn2.png"
set title "preresnet20-w0.5: block4.bn2 (bandwidth 0.06092, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.5820003152, graph 0 to 0.5820003152, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.582" at 0.5820003152, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.5820003152, graph 0 to 0.5820003152, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.582 (3)" at 0.5820003152, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.6833067536, graph 0 to 0.6833067536, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.683 (12)" at 0.6833067536, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.7981194854, graph 0 to 0.7981194854, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.9430992007, graph 0 to 0.9430992007, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.009931088686 0
0.02979326606 0
0.04965544343 0
0.0695176208 0
0.08937979817 0
0.1092419755 0
0.1291041529 0
0.1489663303 0
0.1688285077 0
0.188690685 0
0.2085528624 0
0.2284150398 0
0.2482772171 0
0.2681393945 0
0.2880015719 0
0.3078637493 0
0.3277259266 0
0.347588104 0
0.3674502814 0
0.3873124588 0
0.4071746361 0
0.4270368135 0
0.4468989909 0
0.4667611682 0
0.4866233456 0
0.506485523 0
0.5263477004 0
0.5462098777 0
0.5660720551 1
0.5859342325 2
0.6057964098 0
0.6256585872 0
0.6455207646 1
0.665382942 5
0.6852451193 2
0.7051072967 2
0.7249694741 2
0.7448316514 1
0.7646938288 2
0.7845560062 2
0.8044181836 2
0.8242803609 2
0.8441425383 2
0.8640047157 0
0.8838668931 1
0.9037290704 1
0.9235912478 1
0.9434534252 1
0.9633156025 1
0.9831777799 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (32 channels)"
