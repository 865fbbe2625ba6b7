// Token masks against the brute-force check (filled in below).
