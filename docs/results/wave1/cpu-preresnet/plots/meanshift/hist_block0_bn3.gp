set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block0_bn3.png"
set title "preresnet20-w0.5: block0.bn3 (bandwidth 0.1038, 4 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.6632178426, graph 0 to 0.6632178426, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.6632" at 0.6632178426, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.6632178426, graph 0 to 0.6632178426, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.663 (1)" at 0.6632178426, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.8268328905, graph 0 to 0.8268328905, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.827 (5)" at 0.8268328905, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.132828832, graph 0 to 1.132828832, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 1.480753183, graph 0 to 1.480753183, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01480753183 0
0.0444225955 0
0.07403765917 0
0.1036527228 0
0.1332677865 0
0.1628828502 0
0.1924979138 0
0.2221129775 0
0.2517280412 0
0.2813431048 0
0.3109581685 0
0.3405732322 0
0.3701882958 0
0.3998033595 0
0.4294184232 0
0.4590334868 0
0.4886485505 0
0.5182636142 0
0.5478786778 0
0.5774937415 0
0.6071088052 0
0.6367238688 0
0.6663389325 1
0.6959539962 0
0.7255690598 0
0.7551841235 0
0.7847991872 1
0.8144142509 2
0.8440293145 1
0.8736443782 0
0.9032594419 1
0.9328745055 0
0.9624895692 0
0.9921046329 0
1.021719697 0
1.05133476 0
1.080949824 0
1.110564888 0
1.140179951 1
1.169795015 0
1.199410079 0
1.229025142 0
1.258640206 0
1.28825527 0
1.317870333 0
1.347485397 0
1.377100461 0
1.406715524 0
1.436330588 0
1.465945652 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (8 channels)"
