# joinhintd retry_join stanzas: revision 1, region "cn-hangzhou"

retry_join {
  leader_api_addr         = "https://172.16.1.12:8200"
  leader_ca_cert_file     = "/etc/vault/\"ca\" \u0024{HOME}\\\u0025{x}\t$\u0024{y}\n.pem"
  leader_tls_servername   = "vault.example"
  leader_client_cert_file = "/etc/vault/client.pem"
  leader_client_key_file  = "/etc/vault/client-key.pem"
}

retry_join {
  leader_api_addr         = "https://[2408:4005:3a0:c900:1::3]:8200"
  leader_ca_cert_file     = "/etc/vault/\"ca\" \u0024{HOME}\\\u0025{x}\t$\u0024{y}\n.pem"
  leader_tls_servername   = "vault.example"
  leader_client_cert_file = "/etc/vault/client.pem"
  leader_client_key_file  = "/etc/vault/client-key.pem"
}

retry_join {
  leader_api_addr         = "https://172.16.3.14:8200"
  leader_ca_cert_file     = "/etc/vault/\"ca\" \u0024{HOME}\\\u0025{x}\t$\u0024{y}\n.pem"
  leader_tls_servername   = "vault.example"
  leader_client_cert_file = "/etc/vault/client.pem"
  leader_client_key_file  = "/etc/vault/client-key.pem"
}
