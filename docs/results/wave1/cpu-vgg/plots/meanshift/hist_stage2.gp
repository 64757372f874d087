set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_stage2.png"
set title "vgg16-w0.25: stage2 (bandwidth 0.0204, 11 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.4223285615, graph 0 to 0.4223285615, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.4223" at 0.4223285615, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.4223285615, graph 0 to 0.4223285615, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.422 (4)" at 0.4223285615, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.466609329, graph 0 to 0.466609329, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.467 (11)" at 0.466609329, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.5234230161, graph 0 to 0.5234230161, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.5723414421, graph 0 to 0.5723414421, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 0.6320332885, graph 0 to 0.6320332885, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 7 from 0.6587222815, graph 0 to 0.6587222815, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 8 from 0.7009997368, graph 0 to 0.7009997368, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 9 from 0.7428530455, graph 0 to 0.7428530455, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 10 from 0.7689856887, graph 0 to 0.7689856887, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 11 from 0.829257071, graph 0 to 0.829257071, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 12 from 0.8756316304, graph 0 to 0.8756316304, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.008756316304 0
0.02626894891 0
0.04378158152 0
0.06129421413 0
0.07880684674 0
0.09631947935 0
0.113832112 0
0.1313447446 0
0.1488573772 0
0.1663700098 0
0.1838826424 0
0.201395275 0
0.2189079076 0
0.2364205402 0
0.2539331728 0
0.2714458054 0
0.288958438 0
0.3064710706 0
0.3239837033 0
0.3414963359 0
0.3590089685 0
0.3765216011 0
0.3940342337 0
0.4115468663 2
0.4290594989 2
0.4465721315 4
0.4640847641 1
0.4815973967 4
0.4991100293 6
0.5166226619 15
0.5341352946 9
0.5516479272 14
0.5691605598 14
0.5866731924 19
0.604185825 11
0.6216984576 12
0.6392110902 9
0.6567237228 20
0.6742363554 6
0.691748988 8
0.7092616206 10
0.7267742532 5
0.7442868859 5
0.7617995185 6
0.7793121511 5
0.7968247837 0
0.8143374163 1
0.8318500489 3
0.8493626815 0
0.8668753141 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (192 channels)"
