set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_trans1_bn.png"
set title "densenet16-w0.5: trans1.bn (bandwidth 0.1791, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.0609703958, graph 0 to 0.0609703958, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.06097" at 0.0609703958, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.0609703958, graph 0 to 0.0609703958, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.061 (4)" at 0.0609703958, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.8868421316, graph 0 to 0.8868421316, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.887 (44)" at 0.8868421316, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.231675982, graph 0 to 1.231675982, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 1.605229497, graph 0 to 1.605229497, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01605229497 2
0.04815688491 0
0.08026147485 0
0.1123660648 0
0.1444706547 0
0.1765752447 1
0.2086798346 0
0.2407844245 0
0.2728890145 0
0.3049936044 0
0.3370981944 1
0.3692027843 0
0.4013073742 0
0.4334119642 0
0.4655165541 0
0.4976211441 0
0.529725734 2
0.5618303239 0
0.5939349139 3
0.6260395038 1
0.6581440938 3
0.6902486837 4
0.7223532736 2
0.7544578636 3
0.7865624535 2
0.8186670434 2
0.8507716334 5
0.8828762233 1
0.9149808133 4
0.9470854032 3
0.9791899931 3
1.011294583 5
1.043399173 1
1.075503763 1
1.107608353 1
1.139712943 1
1.171817533 2
1.203922123 0
1.236026713 1
1.268131303 0
1.300235893 2
1.332340482 3
1.364445072 0
1.396549662 0
1.428654252 0
1.460758842 0
1.492863432 0
1.524968022 0
1.557072612 0
1.589177202 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (60 channels)"
