"""Tests of the FreshBooks sandbox over real HTTP on loopback."""
