set terminal pngcairo size 1100,600 font 'Sans,10'
set output "enclave-latency.png"
set title "Latency vs EPC size - EMULATED enclave, not SGX hardware (p50 of 30 runs, batch 1, 1 thread)" enhanced
set xlabel "EPC size (MiB)"
set ylabel "latency per image, p50 (ms)"
set grid
set key outside right top
set style fill solid 0.5 border -1
set logscale x
set logscale y
$d0 << EOD
0.5 2.389035
93.5 0.1437595
EOD
$d1 << EOD
0.5 2.458213
93.5 0.1851765
EOD
$d2 << EOD
0.5 2.4278125
93.5 0.1839795
EOD
plot $d0 using 1:2 with linespoints lw 2 title "base paging", $d1 using 1:2 with linespoints lw 2 title "meanshift paging", $d2 using 1:2 with linespoints lw 2 title "slimming paging"
