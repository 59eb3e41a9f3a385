#!/usr/bin/perl
# serve_load.pl PORT TOKEN PATH REQUESTS CLIENTS - a keep-alive HTTP/1.1
# load for dmarcctl serve: CLIENTS processes, each sending REQUESTS GETs
# of PATH on one connection and reading every answer whole.  Prints the
# rate; asserts nothing (bench/README.md).  perl-base only.
use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes qw(time);

my ($port, $tok, $path, $n, $procs) = @ARGV;
die "usage: serve_load.pl PORT TOKEN PATH REQUESTS CLIENTS\n" unless $procs;
my $t0 = time;
my @pids;
for my $p (1 .. $procs) {
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $port) or die "connect: $!";
		my $ok = 0;
		for (1 .. $n) {
			print $s "GET $path HTTP/1.1\r\nHost: bench\r\n" .
			    "Authorization: Bearer $tok\r\n\r\n";
			my $status = <$s>;
			last unless defined $status;
			my $len = 0;
			while (my $l = <$s>) {
				$len = $1 if $l =~ /^Content-Length: (\d+)/i;
				last if $l eq "\r\n";
			}
			read($s, my $body, $len);
			$ok++ if $status =~ / 200 /;
		}
		exit($ok == $n ? 0 : 1);
	}
	push @pids, $pid;
}
my $bad = 0;
for (@pids) {
	waitpid($_, 0);
	$bad++ if $?;
}
my $dt = time - $t0;
printf "%s: %d requests, %d clients, %.2f s, %.0f req/s%s\n", $path,
    $n * $procs, $procs, $dt, $n * $procs / $dt,
    $bad ? ", $bad clients saw a non-200 answer" : "";
