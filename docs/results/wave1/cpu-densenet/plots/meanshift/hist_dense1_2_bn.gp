set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_dense1_2_bn.png"
set title "densenet16-w0.5: dense1_2.bn (bandwidth 0.1633, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.1340285838, graph 0 to 0.1340285838, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.134" at 0.1340285838, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.1340285838, graph 0 to 0.1340285838, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.134 (12)" at 0.1340285838, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.4879400134, graph 0 to 0.4879400134, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.488 (30)" at 0.4879400134, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.9510685205, graph 0 to 0.9510685205, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01105428696 3
0.03316286087 2
0.05527143478 0
0.0773800087 0
0.09948858261 0
0.1215971565 1
0.1437057304 0
0.1658143044 0
0.1879228783 1
0.2100314522 1
0.2321400261 2
0.2542486 0
0.2763571739 2
0.2984657478 0
0.3205743217 1
0.3426828957 2
0.3647914696 1
0.3869000435 1
0.4090086174 2
0.4311171913 2
0.4532257652 5
0.4753343391 1
0.4974429131 2
0.519551487 4
0.5416600609 1
0.5637686348 1
0.5858772087 1
0.6079857826 0
0.6300943565 3
0.6522029305 1
0.6743115044 1
0.6964200783 1
0.7185286522 0
0.7406372261 0
0.7627458 1
0.7848543739 0
0.8069629478 0
0.8290715218 1
0.8511800957 0
0.8732886696 0
0.8953972435 1
0.9175058174 1
0.9396143913 0
0.9617229652 0
0.9838315392 0
1.005940113 1
1.028048687 0
1.050157261 0
1.072265835 0
1.094374409 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (48 channels)"
