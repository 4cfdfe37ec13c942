# refusals.py PORT N TOKEN: N WebSocket upgrade attempts, one after another, each answered (503 expected); prints statuses
import socket,sys,collections,base64,os
port=int(sys.argv[1]); n=int(sys.argv[2]); token=sys.argv[3]
c=collections.Counter()
for i in range(n):
    s=socket.create_connection(('127.0.0.1',port))
    key=base64.b64encode(os.urandom(16)).decode()
    s.sendall(f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    data=s.recv(4096)
    c[data.split(b' ')[1].decode() if data else 'none']+=1
    s.close()
print(dict(c))
