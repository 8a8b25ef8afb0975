#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Algorithm table shared by the datapath tests: one line per algorithm set,
# written as `ip xfrm`, `kipsec` and esp_scapy.py all take them.
#   ALG_NAME[i]   short name for test output
#   ALG_XFRM[i]   words for ip xfrm / kipsec
#   ALG_SCAPY[i]  options for esp_scapy.py ("" if scapy lacks it)
# The strings are shell words (names quoted): use them with eval.

K16=0x0102030405060708090a0b0c0d0e0f10
K20=0x0102030405060708090a0b0c0d0e0f1011121314
K19=0x0102030405060708090a0b0c0d0e0f10111213
K36=0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324
K32=0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20
H20=0xa1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4
H32=0xa1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0
H48=${H32}c1c2c3c4c5c6c7c8c9cacbcccdcecfd0
H64=${H48}d1d2d3d4d5d6d7d8d9dadbdcdddedfe0

ALG_NAME=(); ALG_XFRM=(); ALG_SCAPY=()
_alg() { ALG_NAME+=("$1"); ALG_XFRM+=("$2"); ALG_SCAPY+=("$3"); }

_alg gcm128   "aead 'rfc4106(gcm(aes))' $K20 128"  "--aead 'rfc4106(gcm(aes))' $K20 128"
_alg gcm96    "aead 'rfc4106(gcm(aes))' $K20 96"   "--aead 'rfc4106(gcm(aes))' $K20 96"
_alg gcm64    "aead 'rfc4106(gcm(aes))' $K20 64"   "--aead 'rfc4106(gcm(aes))' $K20 64"
_alg gcm256   "aead 'rfc4106(gcm(aes))' $K36 128"  "--aead 'rfc4106(gcm(aes))' $K36 128"
_alg ccm128   "aead 'rfc4309(ccm(aes))' $K19 128"  "--aead 'rfc4309(ccm(aes))' $K19 128"
_alg chacha   "aead 'rfc7539esp(chacha20,poly1305)' $K36 128" "--aead 'rfc7539esp(chacha20,poly1305)' $K36 128"
_alg gmac     "aead 'rfc4543(gcm(aes))' $K20 128"  ""
_alg cbc-sha1 "enc 'cbc(aes)' $K16 auth-trunc 'hmac(sha1)' $H20 96" "--enc 'cbc(aes)' $K16 --auth 'hmac(sha1)' $H20 96"
_alg cbc-sha256 "enc 'cbc(aes)' $K16 auth-trunc 'hmac(sha256)' $H32 128" "--enc 'cbc(aes)' $K16 --auth 'hmac(sha256)' $H32 128"
_alg cbc-sha384 "enc 'cbc(aes)' $K32 auth-trunc 'hmac(sha384)' $H48 192" "--enc 'cbc(aes)' $K32 --auth 'hmac(sha384)' $H48 192"
_alg cbc-sha512 "enc 'cbc(aes)' $K32 auth-trunc 'hmac(sha512)' $H64 256" "--enc 'cbc(aes)' $K32 --auth 'hmac(sha512)' $H64 256"
_alg ctr-sha256 "enc 'rfc3686(ctr(aes))' $K20 auth-trunc 'hmac(sha256)' $H32 128" "--enc 'rfc3686(ctr(aes))' $K20 --auth 'hmac(sha256)' $H32 128"
_alg cbc-xcbc "enc 'cbc(aes)' $K16 auth-trunc 'xcbc(aes)' $K16 96" ""
_alg cbc-cmac "enc 'cbc(aes)' $K16 auth-trunc 'cmac(aes)' $K16 96" "--enc 'cbc(aes)' $K16 --auth 'cmac(aes)' $K16 96"
_alg null-sha256 "enc 'ecb(cipher_null)' \"\" auth-trunc 'hmac(sha256)' $H32 128" "--enc 'ecb(cipher_null)' 0x --auth 'hmac(sha256)' $H32 128"
