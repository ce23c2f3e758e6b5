# Two keepalived hosts (namespaces hkl1, hkl2) on a bridge of their own
# (namespace hklbr), so one host's link going down leaves the other's up
# (a bare veth pair would take both carriers down: keepalived's FLAGS_UP
# needs IFF_RUNNING). Each host also has an "uplink" hku1/hku2 (a veth
# whose peer sits in hklbr) for track_interface. Run once as root;
# teardown: for n in hkl1 hkl2 hklbr; do ip netns del $n; done
set -e
for n in hkl1 hkl2 hklbr; do ip netns add $n; ip -n $n link set lo up; done
ip -n hklbr link add br0 type bridge; ip -n hklbr link set br0 up
for i in 1 2; do
  ip link add hkv$i type veth peer name hkb$i
  ip link set hkv$i netns hkl$i; ip link set hkb$i netns hklbr
  ip -n hklbr link set hkb$i master br0; ip -n hklbr link set hkb$i up
  ip -n hkl$i addr add 10.214.0.$i/24 dev hkv$i; ip -n hkl$i link set hkv$i up
  ip link add hku$i type veth peer name hkc$i
  ip link set hku$i netns hkl$i; ip link set hkc$i netns hklbr
  ip -n hklbr link set hkc$i up; ip -n hkl$i link set hku$i up
done
