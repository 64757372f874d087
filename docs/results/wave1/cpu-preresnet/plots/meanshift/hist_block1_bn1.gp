set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block1_bn1.png"
set title "preresnet20-w0.5: block1.bn1 (bandwidth 0.1254, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.0002049134055, graph 0 to 0.0002049134055, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.0002049" at 0.0002049134055, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.0002049134055, graph 0 to 0.0002049134055, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.000205 (8)" at 0.0002049134055, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.3805853724, graph 0 to 0.3805853724, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.381 (11)" at 0.3805853724, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.5447621346, graph 0 to 0.5447621346, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.7344577312, graph 0 to 0.7344577312, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.007562574744 7
0.02268772423 0
0.03781287372 0
0.05293802321 0
0.0680631727 0
0.08318832219 0
0.09831347167 0
0.1134386212 0
0.1285637707 0
0.1436889201 0
0.1588140696 0
0.1739392191 1
0.1890643686 0
0.2041895181 2
0.2193146676 0
0.2344398171 0
0.2495649666 0
0.264690116 1
0.2798152655 0
0.294940415 0
0.3100655645 1
0.325190714 1
0.3403158635 0
0.355441013 2
0.3705661625 2
0.385691312 0
0.4008164614 1
0.4159416109 0
0.4310667604 0
0.4461919099 0
0.4613170594 1
0.4764422089 1
0.4915673584 1
0.5066925079 0
0.5218176574 1
0.5369428068 1
0.5520679563 1
0.5671931058 1
0.5823182553 4
0.5974434048 1
0.6125685543 0
0.6276937038 0
0.6428188533 0
0.6579440027 0
0.6730691522 0
0.6881943017 0
0.7033194512 0
0.7184446007 1
0.7335697502 0
0.7486948997 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (32 channels)"
