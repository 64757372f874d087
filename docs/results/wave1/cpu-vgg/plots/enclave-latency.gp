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
1.4 26.621421
3.1 14.2531245
93.5 0.201516
EOD
$d1 << EOD
1.4 19.351768
3.1 0.3582745
93.5 0.1923025
EOD
$d2 << EOD
1.4 19.8588895
3.1 0.359261
93.5 0.1906795
EOD
plot $d0 using 1:2 with linespoints lw 2 title "base paging", $d1 using 1:2 with linespoints lw 2 title "meanshift paging", $d2 using 1:2 with linespoints lw 2 title "slimming paging"
