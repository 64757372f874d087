set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_dense1_1_bn.png"
set title "densenet16-w0.5: dense1_1.bn (bandwidth 0.1603, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.003324617399, graph 0 to 0.003324617399, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.003325" at 0.003324617399, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.003324617399, graph 0 to 0.003324617399, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.00332 (4)" at 0.003324617399, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.4772839248, graph 0 to 0.4772839248, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.477 (31)" at 0.4772839248, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.055360794, graph 0 to 1.055360794, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01086251378 4
0.03258754134 0
0.0543125689 0
0.07603759646 0
0.09776262403 0
0.1194876516 0
0.1412126791 0
0.1629377067 0
0.1846627343 0
0.2063877618 0
0.2281127894 0
0.249837817 1
0.2715628445 1
0.2932878721 0
0.3150128996 0
0.3367379272 3
0.3584629548 0
0.3801879823 2
0.4019130099 2
0.4236380374 2
0.445363065 1
0.4670880926 2
0.4888131201 3
0.5105381477 1
0.5322631752 2
0.5539882028 2
0.5757132304 1
0.5974382579 3
0.6191632855 1
0.6408883131 0
0.6626133406 1
0.6843383682 0
0.7060633957 1
0.7277884233 2
0.7495134509 0
0.7712384784 0
0.792963506 1
0.8146885335 1
0.8364135611 1
0.8581385887 1
0.8798636162 0
0.9015886438 0
0.9233136714 0
0.9450386989 0
0.9667637265 0
0.988488754 1
1.010213782 0
1.031938809 0
1.053663837 0
1.075388864 2
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (42 channels)"
