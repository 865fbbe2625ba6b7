#!/usr/bin/perl
# The independent oracle for byte-level BPE: Perl's own regex engine for the
# pre-tokenizers and a plain BPE loop, written from the definitions (the
# regexes as agm/format.h gives them, GPT-2's byte-to-unicode alphabet,
# llama.cpp's special-token partition), sharing no code with the engine.
#
#   bpe_oracle.pl split STYLE MODE FILE     pre-tokens of each record: hex, space-separated
#   bpe_oracle.pl classes                   runs of the pre-tokenizers' character classes
#   bpe_oracle.pl dump GGUF                 a vocabulary-only GGUF as a text dump (below)
#   bpe_oracle.pl encode DUMP STYLE MODE FILE   token ids of each record
#
# STYLE: gpt2 | llama3 | falcon. MODE: lines (each line of FILE, without its
# '\n'), whole (FILE as one record), escaped (each line that is not empty or
# a '#' comment, with \n \r \t \\ \xHH \u{H..} unescaped).
#
# Characters: well-formed UTF-8 (Unicode's Table 3-7) decodes to its code
# point; any other byte is one character on its own, carried as code point
# 0x110000 + byte (above Unicode: no \s, \p{L}, \p{N}, \p{P}), and turns back
# into that byte in the output.
#
# Dump: "tokens N", N lines "TYPE HEX" (the token as the GGUF spells it),
# "merges M", M lines "HEX HEX", "bos ID", "eos ID".
use strict;
use warnings;
no warnings qw(non_unicode surrogate nonchar);

binmode STDOUT;

my %RX = (
    gpt2 => [qr/'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/u],
    llama3 => [qr/(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/u],
    falcon => [
        qr/[\p{P}\$\+<=>\^~\|`]+/u,
        qr/'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)/u,
        qr/[0-9][0-9][0-9]/u,
    ],
);

sub slurp {
    my ($path) = @_;
    open(my $f, '<:raw', $path) or die "$path: $!\n";
    local $/;
    my $d = <$f>;
    close $f;
    return defined $d ? $d : '';
}

sub unescape {
    my ($s) = @_;
    $s =~ s/\\(?:(n)|(r)|(t)|(\\)|x([0-9A-Fa-f]{2})|u\{([0-9A-Fa-f]+)\})/
        defined $1 ? "\n" : defined $2 ? "\r" : defined $3 ? "\t" : defined $4 ? "\\" :
        defined $5 ? chr(hex $5) : do { my $c = chr(hex $6); utf8::encode($c); $c }/ge;
    return $s;
}

# The records of FILE as byte strings.
sub records {
    my ($mode, $path) = @_;
    my $d = slurp($path);
    return ($d) if $mode eq 'whole';
    my @l = split /\n/, $d, -1;
    pop @l if @l && $l[-1] eq '';
    return @l if $mode eq 'lines';
    die "unknown mode $mode\n" unless $mode eq 'escaped';
    return map { unescape($_) } grep { $_ ne '' && !/^#/ } @l;
}

my $WELL_FORMED = qr/[\x00-\x7F]|[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2}/;

sub to_chars {
    my ($bytes) = @_;
    my $s = '';
    while ($bytes =~ /\G(?:($WELL_FORMED)|([\x00-\xFF]))/gcs) {
        if (defined $1) {
            my $c = $1;
            utf8::decode($c) or die "decode";
            $s .= $c;
        } else {
            $s .= chr(0x110000 + ord $2);
        }
    }
    return $s;
}

sub to_bytes {
    my ($s) = @_;
    my $b = '';
    for my $c (split //, $s) {
        if (ord($c) >= 0x110000) {
            $b .= chr(ord($c) - 0x110000);
        } else {
            utf8::encode($c);
            $b .= $c;
        }
    }
    return $b;
}

# One regex over a piece: its matches and the gaps between them, in order.
sub split_with {
    my ($rx, $s) = @_;
    my @out;
    my $last = 0;
    while ($s =~ /$rx/g) {
        my ($b, $e) = ($-[0], $+[0]);
        push @out, substr($s, $last, $b - $last) if $b > $last;
        push @out, substr($s, $b, $e - $b);
        $last = $e;
    }
    push @out, substr($s, $last) if $last < length $s;
    return @out;
}

sub pretokenize {
    my ($style, $bytes) = @_;
    my $rxs = $RX{$style} or die "unknown style $style\n";
    my @pieces = (to_chars($bytes));
    for my $rx (@$rxs) {
        @pieces = map { split_with($rx, $_) } @pieces;
    }
    return map { to_bytes($_) } @pieces;
}

sub cmd_split {
    my ($style, $mode, $path) = @_;
    for my $r (records($mode, $path)) {
        print join(' ', map { unpack('H*', $_) } pretokenize($style, $r)), "\n";
    }
}

sub cmd_classes {
    my $prev = -1;
    for my $cp (0 .. 0x10FFFF) {
        my $c = chr($cp);
        my $k = $c =~ /\s/u ? 4 : $c =~ /\p{L}/ ? 1 : $c =~ /\p{N}/ ? 2 : $c =~ /\p{P}/ ? 3 : 0;
        printf "%06X %d\n", $cp, $k if $k != $prev;
        $prev = $k;
    }
}

# ---- GGUF (v2/v3) metadata, just enough for a vocabulary-only file ----
sub cmd_dump {
    my ($path) = @_;
    my $d = slurp($path);
    my $p = 0;
    my $take = sub { my ($n) = @_; die "truncated\n" if $p + $n > length $d; my $s = substr($d, $p, $n); $p += $n; $s };
    my $u32 = sub { unpack('V', $take->(4)) };
    my $u64 = sub { my ($lo, $hi) = unpack('VV', $take->(8)); $hi * 4294967296 + $lo };
    my $str = sub { $take->($u64->()) };
    my %size = (0 => 1, 1 => 1, 2 => 2, 3 => 2, 4 => 4, 5 => 4, 6 => 4, 7 => 1, 10 => 8, 11 => 8, 12 => 8);
    my $value;
    $value = sub {
        my ($t) = @_;
        return $str->() if $t == 8;
        if ($t == 9) {
            my $et = $u32->();
            my $n = $u64->();
            return [map { $value->($et) } 1 .. $n];
        }
        my $raw = $take->($size{$t} // die "type $t\n");
        return unpack('V', $raw) if $t == 4;
        return unpack('l<', $raw) if $t == 5;
        return $raw;
    };
    die "not a GGUF\n" unless $take->(4) eq 'GGUF';
    my $version = $u32->();
    die "GGUF version $version\n" unless $version == 2 || $version == 3;
    $u64->();    # tensors
    my $n_kv = $u64->();
    my %kv;
    for (1 .. $n_kv) {
        my $k = $str->();
        $kv{$k} = $value->($u32->());
    }
    my $toks = $kv{'tokenizer.ggml.tokens'} or die "no tokens\n";
    my $types = $kv{'tokenizer.ggml.token_type'} // [map { 1 } @$toks];
    my $merges = $kv{'tokenizer.ggml.merges'} // [];
    print "tokens ", scalar(@$toks), "\n";
    for my $i (0 .. $#$toks) { print $types->[$i], " ", unpack('H*', $toks->[$i]), "\n" }
    print "merges ", scalar(@$merges), "\n";
    for my $m (@$merges) {
        my $k = index($m, ' ', 1);
        print unpack('H*', substr($m, 0, $k)), " ", unpack('H*', substr($m, $k + 1)), "\n";
    }
    print "bos ", $kv{'tokenizer.ggml.bos_token_id'} // -1, "\n";
    print "eos ", $kv{'tokenizer.ggml.eos_token_id'} // -1, "\n";
}

# ---- Encoding ----
# GPT-2's alphabet: printable Latin-1 bytes spell themselves, the other 68
# take U+0100.. in byte order.
my @BYTE_CHAR;
{
    my $k = 0;
    for my $b (0 .. 255) {
        my $printable = ($b >= 0x21 && $b <= 0x7E) || ($b >= 0xA1 && $b <= 0xAC) || ($b >= 0xAE && $b <= 0xFF);
        $BYTE_CHAR[$b] = chr($printable ? $b : 0x100 + $k++);
    }
}

sub cmd_encode {
    my ($dump, $style, $mode, $path) = @_;
    open(my $f, '<:raw', $dump) or die "$dump: $!\n";
    my (@tok, @type, %id, %normal, %rank);
    my ($n) = <$f> =~ /^tokens (\d+)$/ or die "bad dump\n";
    for my $i (0 .. $n - 1) {
        my ($t, $hex) = <$f> =~ /^(\d+) ([0-9a-f]*)$/ or die "bad token line\n";
        my $s = pack('H*', $hex);
        utf8::decode($s);    # a character string, like the alphabet
        push @tok, $s;
        push @type, $t;
        $id{$s} //= $i;
        $normal{$s} //= $i if $t == 1;
    }
    my ($m) = <$f> =~ /^merges (\d+)$/ or die "bad dump\n";
    for my $r (0 .. $m - 1) {
        my ($a, $b) = map { my $x = pack('H*', $_); utf8::decode($x); $x } (<$f> =~ /^([0-9a-f]+) ([0-9a-f]+)$/);
        $rank{"$a $b"} //= $r;
    }
    close $f;
    # Control and user-defined tokens: their raw text, longest first, then lower id.
    my @special = sort { length($tok[$b]) <=> length($tok[$a]) || $a <=> $b }
        grep { ($type[$_] == 3 || $type[$_] == 4) && length $tok[$_] } 0 .. $#tok;
    my @special_bytes = map { my $x = $tok[$_]; utf8::encode($x); $x } @special;
    my $ignore_merges = $style eq 'llama3';

    my $bpe = sub {
        my ($word) = @_;    # bytes
        my $spelled = join '', map { $BYTE_CHAR[ord $_] } split //, $word;
        return ($normal{$spelled}) if $ignore_merges && exists $normal{$spelled};
        my @sym = map { $BYTE_CHAR[ord $_] } split //, $word;
        for (;;) {
            my ($best, $at);
            for my $i (0 .. $#sym - 1) {
                my $r = $rank{"$sym[$i] $sym[$i + 1]"};
                ($best, $at) = ($r, $i) if defined $r && (!defined $best || $r < $best);
            }
            last unless defined $best;
            splice @sym, $at, 2, $sym[$at] . $sym[$at + 1];
        }
        return map { $id{$_} // die "symbol is not a token\n" } @sym;
    };
    my $part;
    $part = sub {
        my ($bytes, $k) = @_;
        for my $j ($k .. $#special) {
            my $i = index($bytes, $special_bytes[$j]);
            next if $i < 0;
            return ($part->(substr($bytes, 0, $i), $j + 1), $special[$j],
                    $part->(substr($bytes, $i + length $special_bytes[$j]), $j));
        }
        return map { $bpe->($_) } pretokenize($style, $bytes);
    };
    for my $r (records($mode, $path)) {
        print join(' ', $part->($r, 0)), "\n";
    }
}

my $cmd = shift @ARGV // '';
if ($cmd eq 'split' && @ARGV == 3) { cmd_split(@ARGV) }
elsif ($cmd eq 'classes' && @ARGV == 0) { cmd_classes() }
elsif ($cmd eq 'dump' && @ARGV == 1) { cmd_dump(@ARGV) }
elsif ($cmd eq 'encode' && @ARGV == 4) { cmd_encode(@ARGV) }
else { die "usage: bpe_oracle.pl split STYLE MODE FILE | classes | dump GGUF | encode DUMP STYLE MODE FILE\n" }
