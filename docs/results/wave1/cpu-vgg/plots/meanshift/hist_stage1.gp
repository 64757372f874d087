set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_stage1.png"
set title "vgg16-w0.25: stage1 (bandwidth 0.03026, 11 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.477535069, graph 0 to 0.477535069, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.4775" at 0.477535069, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.477535069, graph 0 to 0.477535069, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.478 (1)" at 0.477535069, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.5767455101, graph 0 to 0.5767455101, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.577 (3)" at 0.5767455101, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.6278436184, graph 0 to 0.6278436184, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.6623417139, graph 0 to 0.6623417139, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 0.7210122943, graph 0 to 0.7210122943, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 7 from 0.7559764981, graph 0 to 0.7559764981, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 8 from 0.8270711303, graph 0 to 0.8270711303, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 9 from 0.9088402987, graph 0 to 0.9088402987, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 10 from 0.9436632395, graph 0 to 0.9436632395, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 11 from 1.067273855, graph 0 to 1.067273855, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 12 from 1.170525074, graph 0 to 1.170525074, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01184514999 0
0.03553544998 0
0.05922574997 0
0.08291604996 0
0.1066063499 0
0.1302966499 0
0.1539869499 0
0.1776772499 0
0.2013675499 0
0.2250578499 0
0.2487481499 0
0.2724384499 0
0.2961287498 0
0.3198190498 0
0.3435093498 0
0.3671996498 0
0.3908899498 0
0.4145802498 0
0.4382705498 0
0.4619608498 0
0.4856511497 1
0.5093414497 0
0.5330317497 1
0.5567220497 1
0.5804123497 1
0.6041026497 3
0.6277929497 2
0.6514832497 3
0.6751735497 2
0.6988638496 6
0.7225541496 4
0.7462444496 4
0.7699347496 8
0.7936250496 0
0.8173153496 6
0.8410056496 5
0.8646959496 2
0.8883862495 4
0.9120765495 0
0.9357668495 3
0.9594571495 4
0.9831474495 0
1.006837749 0
1.030528049 0
1.054218349 1
1.077908649 1
1.101598949 0
1.125289249 0
1.148979549 1
1.172669849 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (64 channels)"
