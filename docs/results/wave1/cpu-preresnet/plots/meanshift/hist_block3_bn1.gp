set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block3_bn1.png"
set title "preresnet20-w0.5: block3.bn1 (bandwidth 0.1217, 3 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.4115657508, graph 0 to 0.4115657508, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.4116" at 0.4115657508, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.4115657508, graph 0 to 0.4115657508, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.412 (44)" at 0.4115657508, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.6523565054, graph 0 to 0.6523565054, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.652 (19)" at 0.6523565054, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 1.089062691, graph 0 to 1.089062691, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01089062691 2
0.03267188072 0
0.05445313454 1
0.07623438835 0
0.09801564217 0
0.119796896 0
0.1415781498 3
0.1633594036 0
0.1851406574 1
0.2069219112 1
0.2287031651 2
0.2504844189 0
0.2722656727 1
0.2940469265 2
0.3158281803 1
0.3376094341 3
0.3593906879 5
0.3811719418 2
0.4029531956 3
0.4247344494 5
0.4465157032 2
0.468296957 5
0.4900782108 1
0.5118594646 3
0.5336407185 1
0.5554219723 2
0.5772032261 2
0.5989844799 3
0.6207657337 3
0.6425469875 1
0.6643282413 1
0.6861094952 2
0.707890749 0
0.7296720028 1
0.7514532566 3
0.7732345104 1
0.7950157642 0
0.8167970181 0
0.8385782719 0
0.8603595257 0
0.8821407795 0
0.9039220333 0
0.9257032871 0
0.9474845409 0
0.9692657948 0
0.9910470486 0
1.012828302 0
1.034609556 0
1.05639081 0
1.078172064 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (64 channels)"
