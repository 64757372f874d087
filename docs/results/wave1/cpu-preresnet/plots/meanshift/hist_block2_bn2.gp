set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_block2_bn2.png"
set title "preresnet20-w0.5: block2.bn2 (bandwidth 0.09355, 5 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.4346803725, graph 0 to 0.4346803725, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.4347" at 0.4346803725, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.4346803725, graph 0 to 0.4346803725, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.435 (5)" at 0.4346803725, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.6295387149, graph 0 to 0.6295387149, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.63 (3)" at 0.6295387149, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.7311481833, graph 0 to 0.7311481833, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.8815498352, graph 0 to 0.8815498352, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 1.080346346, graph 0 to 1.080346346, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.01080346346 0
0.03241039038 0
0.0540173173 0
0.07562424421 0
0.09723117113 0
0.118838098 0
0.140445025 0
0.1620519519 0
0.1836588788 0
0.2052658057 0
0.2268727326 0
0.2484796596 0
0.2700865865 0
0.2916935134 0
0.3133004403 0
0.3349073672 0
0.3565142941 0
0.3781212211 2
0.399728148 1
0.4213350749 0
0.4429420018 0
0.4645489287 0
0.4861558557 0
0.5077627826 1
0.5293697095 1
0.5509766364 0
0.5725835633 2
0.5941904902 1
0.6157974172 0
0.6374043441 0
0.659011271 0
0.6806181979 0
0.7022251248 2
0.7238320518 0
0.7454389787 0
0.7670459056 0
0.7886528325 1
0.8102597594 0
0.8318666863 0
0.8534736133 1
0.8750805402 1
0.8966874671 0
0.918294394 0
0.9399013209 2
0.9615082479 0
0.9831151748 0
1.004722102 0
1.026329029 0
1.047935956 0
1.069542882 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (16 channels)"
