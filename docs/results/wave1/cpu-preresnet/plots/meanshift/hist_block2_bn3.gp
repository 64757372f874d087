set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block2_bn3.png"
set title "preresnet20-w0.5: block2.bn3 (bandwidth 0.08336, 5 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.7413690686, graph 0 to 0.7413690686, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.7414" at 0.7413690686, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.7413690686, graph 0 to 0.7413690686, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.741 (1)" at 0.7413690686, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.8963318467, graph 0 to 0.8963318467, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.896 (4)" at 0.8963318467, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.085199594, graph 0 to 1.085199594, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 1.269647121, graph 0 to 1.269647121, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 1.498692513, graph 0 to 1.498692513, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01498692513 0
0.04496077538 0
0.07493462563 0
0.1049084759 0
0.1348823261 0
0.1648561764 0
0.1948300266 0
0.2248038769 0
0.2547777271 0
0.2847515774 0
0.3147254276 0
0.3446992779 0
0.3746731281 0
0.4046469784 0
0.4346208286 0
0.4645946789 0
0.4945685291 0
0.5245423794 0
0.5545162296 0
0.5844900799 0
0.6144639301 0
0.6444377804 0
0.6744116306 0
0.7043854809 0
0.7343593311 1
0.7643331814 0
0.7943070316 0
0.8242808819 0
0.8542547321 2
0.8842285824 1
0.9142024326 0
0.9441762829 1
0.9741501331 0
1.004123983 0
1.034097834 1
1.064071684 2
1.094045534 0
1.124019384 2
1.153993235 0
1.183967085 1
1.213940935 0
1.243914785 1
1.273888636 1
1.303862486 1
1.333836336 1
1.363810186 0
1.393784037 0
1.423757887 0
1.453731737 0
1.483705587 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (16 channels)"
