import sys, time
out = open(sys.argv[1], 'a', buffering=1)
for line in sys.stdin:
    out.write('%.3f %s' % (time.time(), line))
