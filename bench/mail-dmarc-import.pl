#!/usr/bin/perl
# mail-dmarc-import.pl - store aggregate report XML files with
# Mail::DMARC (Debian's libmail-dmarc-perl), the way its dmarc_receive
# does after unpacking an e-mail: Mail::DMARC::Report::Receive's
# handle_body() on each file, in one process (dmarc_receive --file would
# start perl once per file, which would measure perl's start-up).
# The store is the one MAIL_DMARC_CONFIG_FILE's [report_store] names.
# Arguments are files or directories (their *.xml files, in name order).
# Prints "ok N failed M".
use strict;
use warnings;
use Mail::DMARC::Report::Receive;

my $r = Mail::DMARC::Report::Receive->new;
my ($ok, $bad) = (0, 0);
my @files = map { -d $_ ? sort(glob("$_/*.xml")) : $_ } @ARGV;
for my $f (@files) {
	my $fh;
	if (!open($fh, '<:raw', $f)) {
		$bad++;
		next;
	}
	local $/;
	my $x = <$fh>;
	close $fh;
	my $res = eval { $r->report->init(); $r->handle_body($x) };
	if ($@ || !$res) {
		$bad++;
	} else {
		$ok++;
	}
}
print "ok $ok failed $bad\n";
