#!/usr/bin/perl
# gen-reports.pl - a set of aggregate reports built from sample files,
# for bench/import-bench.sh.
#
#   gen-reports.pl OUTDIR N SAMPLE.xml...
#
# Writes OUTDIR/r000001.xml ... OUTDIR/rNNNNNN.xml: report i is sample
# (i mod the number of samples) with its <report_id> replaced by
# "bench-i-ORIGINAL", so every report is unique for (org, report ID,
# domain) and the set imports as N reports, none a duplicate.  Plain XML
# only: each tool then parses the same bytes.
use strict;
use warnings;

my ($out, $n, @samples) = @ARGV;
die "usage: $0 OUTDIR N SAMPLE.xml...\n" unless defined $n && @samples;
mkdir $out unless -d $out;
my @text;
for my $f (@samples) {
	open(my $fh, '<:raw', $f) or die "$f: $!\n";
	local $/;
	my $t = <$fh>;
	close $fh;
	die "$f: no <report_id>\n" unless $t =~ /<(?:\w+:)?report_id>/;
	push @text, $t;
}
for my $i (1 .. $n) {
	my $t = $text[($i - 1) % @text];
	$t =~ s{(<(?:\w+:)?report_id>)\s*([^<]*?)\s*(</)}{$1bench-$i-$2$3};
	my $name = sprintf("%s/r%06d.xml", $out, $i);
	open(my $fh, '>:raw', $name) or die "$name: $!\n";
	print $fh $t;
	close $fh;
}
