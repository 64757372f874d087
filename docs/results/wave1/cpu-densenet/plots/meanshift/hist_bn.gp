set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_bn.png"
set title "densenet16-w0.5: bn (bandwidth 0.554, 2 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.5426535606, graph 0 to 0.5426535606, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.5427" at 0.5426535606, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.5426535606, graph 0 to 0.5426535606, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.543 (65)" at 0.5426535606, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 3.022921801, graph 0 to 3.022921801, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 3.02 (19)" at 3.022921801, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
$d0 << EOD
0.03481193304 0
0.1044357991 4
0.1740596652 2
0.2436835313 4
0.3133073974 4
0.3829312634 4
0.4525551295 2
0.5221789956 3
0.5918028617 6
0.6614267278 5
0.7310505939 2
0.8006744599 6
0.870298326 3
0.9399221921 4
1.009546058 0
1.079169924 0
1.14879379 4
1.218417656 0
1.288041523 2
1.357665389 4
1.427289255 3
1.496913121 1
1.566536987 1
1.636160853 1
1.705784719 0
1.775408585 0
1.845032451 4
1.914656317 0
1.984280183 0
2.053904049 0
2.123527915 0
2.193151782 1
2.262775648 1
2.332399514 1
2.40202338 0
2.471647246 0
2.541271112 1
2.610894978 0
2.680518844 0
2.75014271 0
2.819766576 1
2.889390442 2
2.959014308 1
3.028638175 2
3.098262041 2
3.167885907 1
3.237509773 1
3.307133639 0
3.376757505 0
3.446381371 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (84 channels)"
