set terminal pngcairo size 900,500 font 'Sans,10'
set output "hist_stage4.png"
set title "vgg16-w0.25: stage4 (bandwidth 0.03493, 10 centres)" enhanced
set xlabel "|gamma|"
set ylabel "channels"
set grid
set key outside right top
set style fill solid 0.5 border -1
set arrow 1 from 0.08899024129, graph 0 to 0.08899024129, graph 1 nohead front lw 2 lc rgb "red"
set label 1 "threshold 0.08899" at 0.08899024129, graph 0.97 left offset 0.5,0 textcolor rgb "red" font ',9'
set arrow 2 from 0.08899024129, graph 0 to 0.08899024129, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 2 "centre 0.089 (136)" at 0.08899024129, graph 0.92 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 3 from 0.1242737472, graph 0 to 0.1242737472, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set label 3 "centre 0.124 (112)" at 0.1242737472, graph 0.87 left offset 0.5,0 textcolor rgb "blue" font ',9'
set arrow 4 from 0.2421688288, graph 0 to 0.2421688288, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 5 from 0.3072215915, graph 0 to 0.3072215915, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 6 from 0.4193945229, graph 0 to 0.4193945229, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 7 from 0.4890166223, graph 0 to 0.4890166223, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 8 from 0.5591366887, graph 0 to 0.5591366887, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 9 from 0.6313797832, graph 0 to 0.6313797832, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 10 from 0.6721597314, graph 0 to 0.6721597314, graph 1 nohead front lw 2 lc rgb "blue" dt 2
set arrow 11 from 0.762237072, graph 0 to 0.762237072, graph 1 nohead front lw 2 lc rgb "blue" dt 2
$d0 << EOD
0.007723110914 8
0.02316933274 7
0.03861555457 18
0.0540617764 17
0.06950799823 36
0.08495422006 25
0.1004004419 27
0.1158466637 28
0.1312928855 20
0.1467391074 32
0.1621853292 17
0.177631551 14
0.1930777729 9
0.2085239947 3
0.2239702165 6
0.2394164383 1
0.2548626602 5
0.270308882 4
0.2857551038 4
0.3012013257 1
0.3166475475 2
0.3320937693 2
0.3475399911 3
0.362986213 2
0.3784324348 7
0.3938786566 3
0.4093248785 8
0.4247711003 4
0.4402173221 6
0.4556635439 6
0.4711097658 6
0.4865559876 6
0.5020022094 6
0.5174484313 3
0.5328946531 5
0.5483408749 2
0.5637870967 7
0.5792333186 3
0.5946795404 2
0.6101257622 2
0.6255719841 4
0.6410182059 1
0.6564644277 2
0.6719106495 5
0.6873568714 2
0.7028030932 1
0.718249315 0
0.7336955369 0
0.7491417587 1
0.7645879805 1
EOD
plot $d0 using 1:2 with boxes lw 2 title "|gamma| (384 channels)"
