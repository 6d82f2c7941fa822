# joinhintd retry_join stanzas: revision 1, region "cn-hangzhou"

retry_join {
  leader_api_addr = "http://172.16.1.12:8300"
}

retry_join {
  leader_api_addr = "http://[2408:4005:3a0:c900:1::3]:8300"
}

retry_join {
  leader_api_addr = "http://172.16.3.14:8300"
}
