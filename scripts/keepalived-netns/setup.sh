set -e
ip netns add hka1; ip netns add hka2
ip link add hkv1 type veth peer name hkv2
ip link set hkv1 netns hka1; ip link set hkv2 netns hka2
ip -n hka1 addr add 10.213.0.1/24 dev hkv1; ip -n hka2 addr add 10.213.0.2/24 dev hkv2
ip -n hka1 link set hkv1 up; ip -n hka2 link set hkv2 up
ip -n hka1 link set lo up; ip -n hka2 link set lo up
