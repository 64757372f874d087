set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block3_bn2.png"
set title "preresnet20-w0.5: block3.bn2 (bandwidth 0.03188, 5 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.6096917391, graph 0 to 0.6096917391, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.6097" at 0.6096917391, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.6096917391, graph 0 to 0.6096917391, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.61 (1)" at 0.6096917391, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.7091261148, graph 0 to 0.7091261148, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.709 (5)" at 0.7091261148, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.7963931561, graph 0 to 0.7963931561, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.8285980821, graph 0 to 0.8285980821, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 0.9030382633, graph 0 to 0.9030382633, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.009030382633 0
0.0270911479 0
0.04515191317 0
0.06321267843 0
0.0812734437 0
0.09933420897 0
0.1173949742 0
0.1354557395 0
0.1535165048 0
0.17157727 0
0.1896380353 0
0.2076988006 0
0.2257595658 0
0.2438203311 0
0.2618810964 0
0.2799418616 0
0.2980026269 0
0.3160633922 0
0.3341241574 0
0.3521849227 0
0.370245688 0
0.3883064532 0
0.4063672185 0
0.4244279838 0
0.442488749 0
0.4605495143 0
0.4786102796 0
0.4966710448 0
0.5147318101 0
0.5327925754 0
0.5508533406 0
0.5689141059 0
0.5869748712 0
0.6050356364 1
0.6230964017 0
0.641157167 0
0.6592179322 0
0.6772786975 1
0.6953394628 1
0.713400228 2
0.7314609933 1
0.7495217586 0
0.7675825238 1
0.7856432891 0
0.8037040544 3
0.8217648196 0
0.8398255849 3
0.8578863502 2
0.8759471154 0
0.8940078807 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (16 channels)"
